export { transformerSuite, type Capabilities, type SuiteOptions } from './suite';
export { collect, nextSpark, once, request, startServer, waitFor, type Onceable, type TestServer } from './harness';
