export { transformerSuite, type Capabilities, type SuiteOptions } from './suite';
export { browserSuite, CHROMIUM_ARGS, type BrowserSuiteOptions } from './browser';
export { collect, negotiatedExtensions, nextData, nextSpark, once, request, startServer, waitFor, type Onceable, type TestServer } from './harness';
export * as happnInterop from './happn';
export { interopSuite, type InteropCapabilities, type InteropContext, type InteropServerSide, type InteropSuiteOptions } from './interop';
