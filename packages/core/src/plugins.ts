import type { Plugin } from './primus';

/**
 * A plugin's halves: its own `server`, `client` and `library`, or its prototype's (a plugin may be
 * a class, or an instance of one).
 */
export function pluginParts(plugin: Plugin | (new () => Plugin)): Pick<Plugin, 'server' | 'client' | 'library'> {
  const source = plugin as Plugin & { prototype?: Plugin };
  return {
    server: source.server ?? source.prototype?.server,
    client: source.client ?? source.prototype?.client,
    library: source.library ?? source.prototype?.library,
  };
}
