export { transformerSuite, type Capabilities, type SuiteOptions } from './suite';
export { browserSuite, type BrowserSuiteOptions } from './browser';
export { browserRecoverySuite, type BrowserRecoverySuiteOptions } from './browser-recovery';
export { CHROMIUM_ARGS, PAGE_EVENTS, testPage, useBrowser, type BrowserHarness, type TestPageOptions, type TestTab, type UseBrowserOptions } from './browser-harness';
export {
  collect,
  negotiatedExtensions,
  nextData,
  nextSpark,
  nextUpgradeWrites,
  once,
  request,
  startServer,
  startSocketServer,
  upgrade,
  waitFor,
  type ClientExpectations,
  type Onceable,
  type TestServer,
  type UpgradeResult,
  type UpgradeWrites,
} from './harness';
export * as happnInterop from './happn';
export { interopSuite, type InteropCapabilities, type InteropContext, type InteropServerSide, type InteropSuiteOptions } from './interop';
export { websocketInteropSuite, type RawWebSocketModule, type WebSocketInteropOptions } from './websocket-interop';
export { useServers } from './servers';
export { describeValue, parserSuite, type ParserSample, type ParserSuiteOptions } from './parser-suite';
export { probe, type Probe, type ProbedSocket } from './probe';
export { startFaultProxy, type Direction, type FaultProxy, type Mode } from './fault-proxy';
export { recoverySuite, recoveryRun, recoveryOutcome, type RecoveryRun, type RecoverySuiteOptions } from './recovery';
export { faultSuite, type FaultCapabilities, type FaultSuiteOptions } from './faults';
export { blackhole, serverRestart, Stack, throughProxy, waylaidPing, type BlackholeResult, type RestartResult, type WaylaidResult } from './scenarios';
export { batchingSuite, type BatchingCapabilities, type BatchingSuiteOptions } from './batching';
export { backPressureSuite, type BackPressureCapabilities, type BackPressureSuiteOptions, type BackPressureTransport } from './back-pressure';
export { badInputSuite, type BadInputCapabilities, type BadInputSuiteOptions } from './bad-input-suite';
export {
  CORPUS_DIR,
  loadCorpus,
  plainWebSocketPath,
  RawWebSocket,
  type HttpCase,
  type HttpOutcome,
  type PrimusCase,
  type WebSocketCase,
  type WebSocketOutcome,
  type WebSocketPath,
} from './bad-input';
export {
  answerOf,
  frameworkInputSuite,
  loadFrameworkCorpus,
  type Framework,
  type FrameworkCase,
  type FrameworkCorpus,
  type FrameworkInputSuiteOptions,
  type SessionVars,
} from './framework-input';
export { rawRequest, openWebSocket as openRawWebSocket, streamBody, type RawRequest, type RawResponse } from './wire';
export {
  AUTHORISED,
  authorizationSuite,
  expectOpenRefused,
  expectRefused,
  expectUpgradeRefused,
  type AuthorizationCapabilities,
  type AuthorizationSuiteOptions,
  type Guarded,
  type PathCheck,
  type SessionAccess,
  type SessionCheck,
  type Victim,
} from './authorization';
export { memoryTransformer, type MemoryTransformerOptions } from './memory';
export { soakSuite, SOAK_SIZES, type SoakSize, type SoakSuiteOptions } from './soak';
