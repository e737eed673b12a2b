// Module resolve hook for register.mjs: records each resolved URL.
import { appendFileSync } from 'node:fs';

const LOG = process.env.NETKIT_TEST_MODULE_LOG;

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (LOG) appendFileSync(LOG, `${result.url}\n`);
  return result;
}
