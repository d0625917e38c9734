// Entry of the browser bundle embedded in `primus.js`: the same codec, with @msgpack/msgpack bundled in.
export { decode, encode, name } from './codec';
