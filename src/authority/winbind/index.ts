export { WinbindAuthority, createWinbindAuthority, type WinbindAuthorityDeps } from './authority.js';
export { winbindAuthorityField, winbindAuthorityFields, type WinbindAuthorityOptions, type WinbindAuthorityConfig } from './options.js';
export { WinbindProtocolError } from './protocol.js';
export { WinbindHelperError } from './helper.js';
