export { WinbindAuthority, createWinbindAuthority, type WinbindAuthorityOptions, type WinbindAuthorityDeps } from './authority.js';
export { WinbindProtocolError } from './protocol.js';
export { WinbindHelperError } from './helper.js';
