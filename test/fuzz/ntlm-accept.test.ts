import { test } from 'node:test';
import { ntlmAccept } from '../../scripts/fuzz/targets/ntlm-accept.js';
import { fuzzCases } from './run.js';

test(`fuzz ntlm-accept (${ntlmAccept.invariant})`, () => fuzzCases(ntlmAccept, 3000));
