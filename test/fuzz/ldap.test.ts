import { test } from 'node:test';
import { ldap } from '../../scripts/fuzz/targets/ldap.js';
import { fuzzCases } from './run.js';

test(`fuzz ldap (${ldap.invariant})`, () => fuzzCases(ldap, 10000));
