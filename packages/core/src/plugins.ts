import type { ClientPlugin } from '@primus/client';
import { PrimusError } from './errors';
import { loadPlugin } from './load-package';
import type { ResolvedOptions } from './options';
import type { Primus } from './primus';

/** A plugin: a server half run at once, a client half compiled into every client, and browser code. */
export interface Plugin {
  /** Runs when the plugin is added, with `this = primus`. */
  server?: (this: Primus, primus: Primus, options: ResolvedOptions) => void;
  /** Runs in every client; in `primus.js` it is stringified, so it cannot use server variables. */
  client?: ClientPlugin;
  /** Browser code appended to `primus.js`, run with the client class as `Primus`. */
  library?: string;
  name?: string;
}

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

/**
 * The arguments of `use()` checked: `(name, plugin)` or `(plugin)` with `plugin.name`; a string
 * plugin is the name of a package to load. Throws a `PrimusError` that says what is wrong.
 */
export function checkPlugin(name: string | Plugin, plugin?: Plugin | string | (new () => Plugin)): { name: string; plugin: Plugin } {
  if (typeof name === 'object' && name !== null && plugin === undefined) {
    plugin = name;
    name = (name as Plugin).name as string;
  }
  if (!name) throw new PrimusError('PRIMUS_ERR_PLUGIN', 'Plugin should be specified with a name');
  if (typeof name !== 'string') throw new PrimusError('PRIMUS_ERR_PLUGIN', 'Plugin names should be a string');
  if (typeof plugin === 'string') {
    const loaded = loadPlugin(plugin);
    plugin = (loaded.default ?? loaded) as Plugin;
  }
  if (!plugin || (typeof plugin !== 'object' && typeof plugin !== 'function')) {
    throw new PrimusError('PRIMUS_ERR_PLUGIN', 'Plugin should be an object or function');
  }
  const { server, client } = pluginParts(plugin);
  if (!server && !client) throw new PrimusError('PRIMUS_ERR_PLUGIN', 'The plugin is missing a client or server function');
  return { name, plugin: plugin as Plugin };
}

/** The `plugin` option as `use()` arguments: `{ name: plugin }`, or package names separated by commas or spaces. */
export function pluginsOption(option: string | Record<string, Plugin>): Array<[name: string, plugin: Plugin | string]> {
  if (typeof option === 'string')
    return option
      .split(/[, ]+/)
      .filter(Boolean)
      .map((name) => [name, name]);
  return Object.entries(option);
}
