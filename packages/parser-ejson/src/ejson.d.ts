// The `ejson` package (Meteor's EJSON, repackaged by the Primus project) ships no types.
declare module 'ejson' {
  /** A class EJSON can carry: registered with `addType(name, factory)` under `typeName()`. */
  interface CustomType {
    typeName(): string;
    toJSONValue(): unknown;
    clone?(): unknown;
    equals?(other: unknown): boolean;
  }
  interface EJSONStatic {
    stringify(value: unknown, options?: { canonical?: boolean; indent?: boolean | number | string }): string;
    parse(text: string): unknown;
    addType(name: string, factory: (jsonValue: any) => CustomType): void;
    toJSONValue(value: unknown): unknown;
    fromJSONValue(value: unknown): unknown;
    clone<T>(value: T): T;
    equals(a: unknown, b: unknown, options?: { keyOrderSensitive?: boolean }): boolean;
    isBinary(value: unknown): value is Uint8Array;
    newBinary(size: number): Uint8Array;
  }
  const EJSON: EJSONStatic;
  export = EJSON;
}
