// browserchannel 2.x ships no types. These cover the parts the transformer uses: the server
// middleware (dist/server.js) and the BCSocket client builds (dist/*bcsocket-uncompressed.js).

declare module 'browserchannel/dist/server.js' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

  namespace browserChannel {
    /** One client session: created by the first forward-channel POST of a client. */
    interface Session extends EventEmitter {
      /** 8 base-36 characters from `hat` (Math.random). */
      readonly id: string;
      /** `req.connection.remoteAddress` of the request that opened the session. */
      readonly address: string;
      /** The parsed query of the request that opened the session (extraParams included). */
      readonly query: Record<string, string | string[] | undefined>;
      readonly headers: IncomingHttpHeaders;
      readonly state: 'init' | 'ok' | 'closed';
      /** Queue an array (any JSON value) for the back channel. */
      send(data: unknown, callback?: (err?: Error) => void): number;
      /** Tell the client to stop (it will not reconnect); the callback runs once that was written. */
      stop(callback?: () => void): void;
      /** Forget the session and end its back channel. */
      close(message?: string): void;
    }

    interface Options {
      base?: string;
      hostPrefixes?: string[] | null;
      keepAliveInterval?: number;
      sessionTimeoutInterval?: number;
      cors?: string | ((req: IncomingMessage, res: ServerResponse) => string) | null;
      corsAllowCredentials?: boolean;
      headers?: Record<string, string> | null;
    }

    /** Connect-style middleware; `close()` closes every session. */
    interface Middleware {
      (req: IncomingMessage, res: ServerResponse, next: () => void): void;
      close(): void;
    }
  }

  function browserChannel(options: browserChannel.Options, onConnect: (session: browserChannel.Session, req: IncomingMessage) => void): browserChannel.Middleware;
  namespace browserChannel {
    /** Replace the timer functions and `Date` the module uses (all of them, for every middleware). */
    function _setTimerMethods(methods: {
      setTimeout: typeof setTimeout;
      clearTimeout: typeof clearTimeout;
      setInterval: typeof setInterval;
      clearInterval: typeof clearInterval;
      Date: DateConstructor;
    }): void;
  }
  export = browserChannel;
}

/** The BCSocket constructor both client builds export. */
declare module 'browserchannel/dist/bcsocket-uncompressed.js' {
  export const BCSocket: unknown;
}
