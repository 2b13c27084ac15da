/**
 * The contract between the dialogue (machines/dialogue.ts, which collects typed credentials)
 * and whatever verifies them. The machine owns the types of its verify actor's input and
 * output; the gateway supplies the real verifier (credentials -> NTLM client tokens ->
 * acceptSecurityContext -> authority); dialogue tests supply their own.
 */
import type { VerifyInput, VerifyOutcome } from '../../machines/dialogue.js';

export type { VerifyInput, VerifyOutcome } from '../../machines/dialogue.js';

export type Verifier = (input: VerifyInput, signal: AbortSignal) => Promise<VerifyOutcome>;
