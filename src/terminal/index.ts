export { LineDiscipline } from './discipline.js';
export type { DisciplineEvent, DisciplineOptions, EchoMode, FieldMode } from './discipline.js';
export { crlf, printable } from './output.js';
export type { OutputOptions } from './output.js';
export * from './constants.js';
