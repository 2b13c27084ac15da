export { LocalAuthority, defaultLocalDomain, type LocalAuthorityOptions } from './authority.js';
export { SmbpasswdStore, type SmbpasswdStoreOptions, type StoreEditor, type StoreHealth } from './store.js';
export { parseSmbpasswd, parseLine, formatLine, formatFlags, nameKey, ACCOUNT_FLAG_ORDER, ACCOUNT_FLAG_MEANING, type SmbpasswdEntry, type AccountFlag, type LineProblem } from './smbpasswd.js';
export { withFileLock } from '../../files/lock.js';
export { FileLockError, FileIoError, describeCause } from '../../files/errors.js';
