// Entry of the browser build for a server with connection-state recovery on: the same exports as
// browser.ts, with the recovery session installed. Servers without recovery serve browser.ts's
// build, which leaves the session out (see `sessions` in client.ts).
import { sessions } from './client';
import { ClientSession } from './session';

sessions.Session = ClientSession;

export * from './browser';
