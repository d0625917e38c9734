import type { ConnectionSocket, Transformer } from './contract';
import { PrimusError } from './errors';
import { isPackageName, loadNamed, packageCandidates } from './load-package';

export {
  defineTransformer,
  type ConnectionInfo,
  type ConnectionSink,
  type ConnectionSocket,
  type DrainOptions,
  type HostServer,
  type Logger,
  type PrimusRequest,
  type Transformer,
  type TransformerContext,
  type TransformerOptions,
  type TransformerServer,
} from './contract';

/** @deprecated Renamed `ConnectionSocket`. */
export type SparkSocket = ConnectionSocket;

/** Transformer names and the package that provides each. */
export const TRANSFORMER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  websockets: '@primus/transformer-ws',
  'engine.io': '@primus/transformer-engineio',
  sockjs: '@primus/transformer-sockjs',
  faye: '@primus/transformer-faye',
  browserchannel: '@primus/transformer-browserchannel',
  'socket.io': '@primus/transformer-socketio',
  lws: '@primus/transformer-lws',
});

export { loadOptional } from './load-package';

function unwrap(mod: unknown): unknown {
  const candidate = mod as { default?: unknown } | undefined;
  if (candidate && typeof candidate === 'object' && 'default' in candidate && candidate.default) return candidate.default;
  return mod;
}

function isTransformer(value: unknown): value is Transformer {
  const t = value as Transformer | undefined;
  return !!t && typeof t === 'object' && typeof t.name === 'string' && typeof t.server === 'function' && typeof t.client?.connect === 'function' && typeof t.browser === 'function';
}

/**
 * Resolve the `transformer` option: a transformer object, or a name. A name is one of ours
 * (`TRANSFORMER_PACKAGES`, case-insensitive), or any installed package: `@acme/x` and
 * `primus-transformer-x` load that package, and another name `x` loads the first installed of
 * `@primus/transformer-x`, `primus-transformer-x` and `x`.
 */
export function resolveTransformer(option: unknown): Transformer {
  if (typeof option === 'string') {
    const name = option.trim();
    const ours = TRANSFORMER_PACKAGES[name.toLowerCase()];
    const candidates = ours ? [ours] : isPackageName(name) ? packageCandidates('transformer', name) : [];
    const choices = `Use one of ${Object.keys(TRANSFORMER_PACKAGES).join(', ')}, the name of an installed transformer package, or pass a transformer object`;
    if (!candidates.length) throw new PrimusError('PRIMUS_ERR_UNKNOWN_TRANSFORMER', `Unsupported transformer: "${option}". ${choices}`);
    const found = ours ? loadNamed('transformer', ours) : loadNamed('transformer', name);
    if (!found) {
      if (candidates.length > 1) {
        throw new PrimusError(
          'PRIMUS_ERR_UNKNOWN_TRANSFORMER',
          `Unsupported transformer: "${name}": no installed package provides it (tried ${candidates.join(', ')}). ${choices}. ` +
            `A third-party transformer is installed with its package: npm install ${candidates[1]}`,
        );
      }
      throw new PrimusError('PRIMUS_ERR_MISSING_TRANSFORMER', `Missing dependencies for transformer: "${name}". Install its package: npm install ${candidates[0]}`);
    }
    const transformer = unwrap(found.module);
    if (!isTransformer(transformer)) {
      throw new PrimusError('PRIMUS_ERR_INVALID_TRANSFORMER', `The package ${found.pkg} does not export a transformer (expected { name, server, client, browser })`);
    }
    return transformer;
  }
  const transformer = unwrap(option);
  if (!isTransformer(transformer)) {
    throw new PrimusError('PRIMUS_ERR_INVALID_TRANSFORMER', 'The given transformer is not valid: expected a name or an object with name, server(), client.connect() and browser()');
  }
  return transformer;
}
