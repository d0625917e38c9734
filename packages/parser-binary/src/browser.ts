// Entry of the browser bundle embedded in `primus.js`: the same codec as on Node.
export { decode, encode, name } from './codec';
