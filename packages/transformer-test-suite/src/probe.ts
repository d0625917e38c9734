import type { Transformer } from '@primus/core';

/**
 * The transformer's handle on one connection, as the contract describes it (`ConnectionSocket`):
 * what the suites read to see how much a connection holds.
 */
export interface ProbedSocket {
  send(payload: string | Buffer | Uint8Array): boolean | void;
  readonly bufferedAmount?: number;
  close(): void;
}

/** A transformer that records the socket of every connection it hands to the core. */
export interface Probe<T extends Transformer = Transformer> {
  /** Behaves exactly as the transformer it wraps (same name, client and browser halves). */
  readonly transformer: T;
  /** The socket of the connection the core knows as `id` (`spark.id`). */
  socketOf(id: string): ProbedSocket | undefined;
}

type Connect = (info: unknown, socket: ProbedSocket) => { id: string };

/**
 * Wrap a transformer so that a test can see the socket of each connection it accepted, through
 * the contract only: `context.connect(info, socket)` is observed on its way to the core.
 */
export function probe<T extends Transformer>(transformer: T): Probe<T> {
  const sockets = new Map<string, ProbedSocket>();
  const wrapped = Object.create(transformer, {
    server: {
      value(context: object) {
        const connect = (context as { connect: Connect }).connect;
        const observed = new Proxy(context, {
          get(target, prop) {
            if (prop !== 'connect') return Reflect.get(target, prop, target);
            return (info: unknown, socket: ProbedSocket) => {
              const sink = connect.call(target, info, socket);
              sockets.set(sink.id, socket);
              return sink;
            };
          },
        });
        return transformer.server(observed as never);
      },
    },
  }) as T;
  return { transformer: wrapped, socketOf: (id) => sockets.get(id) };
}
