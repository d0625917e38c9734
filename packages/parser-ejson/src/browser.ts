// Entry of the browser bundle embedded in `primus.js`: the same codec, with `ejson` bundled in.
export { decode, encode, name } from './codec';
