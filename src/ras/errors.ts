/** RAS failures as errors: the raserror.h number travels with a stable string code. */
import { RasgateError } from '../errors.js';
import { describeRasError, rasErrorName } from './codes.js';

export class RasError extends RasgateError {
  /** The raserror.h / winerror.h number, e.g. 601. */
  readonly rasError: number;

  /** `code` is `RAS_` + the raserror.h name, e.g. `RAS_ERROR_INVALID_PORT_HANDLE`. */
  constructor(rasError: number, detail?: string) {
    super(`RAS_${rasErrorName(rasError).replace(/^RAS_/, '')}`, detail ? `${describeRasError(rasError)} ${detail}` : describeRasError(rasError));
    this.rasError = rasError;
  }
}
