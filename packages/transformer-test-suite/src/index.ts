export { transformerSuite, type Capabilities, type SuiteOptions } from './suite';
export { browserSuite, CHROMIUM_ARGS, type BrowserSuiteOptions } from './browser';
export { collect, negotiatedExtensions, nextData, nextSpark, once, request, startServer, upgrade, waitFor, type Onceable, type TestServer, type UpgradeResult } from './harness';
export * as happnInterop from './happn';
export { interopSuite, type InteropCapabilities, type InteropContext, type InteropServerSide, type InteropSuiteOptions } from './interop';
export { websocketInteropSuite, type RawWebSocketModule, type WebSocketInteropOptions } from './websocket-interop';
export { useServers } from './servers';
export { describeValue, parserSuite, type ParserSample, type ParserSuiteOptions } from './parser-suite';
