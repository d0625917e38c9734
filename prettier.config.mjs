// Prettier settings chosen to match how the code was already written: single quotes, semicolons,
// trailing commas, and long lines. The print width is the one that changed the fewest lines when
// the existing sources were formatted with widths from 100 to 240 (180 onwards changed about the
// same number of lines; wider lines only joined more of the deliberately broken ones).
/** @type {import('prettier').Config} */
export default {
  printWidth: 180,
  singleQuote: true,
  trailingComma: 'all',
  semi: true,
  arrowParens: 'always',
};
