// Loaded with `node --import` by tests that need to know which modules a
// process loaded: every resolved module URL is appended, one per line, to
// the file named by NETKIT_TEST_MODULE_LOG.
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url));
