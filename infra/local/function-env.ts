/**
 * Each function's environment, as the synthesized template gives it. In AWS every function has its own process and
 * only the variables of its capabilities (infra/stack.ts `wire`); the local runtime runs them all in one process, so
 * it runs each one with `withFunctionEnv`: the process's environment less every variable the template gives to some
 * function but not to this one, plus AWS_LAMBDA_FUNCTION_NAME, as Lambda sets it. A function whose wiring lacks a
 * capability then fails locally as it would in AWS (shared/deps.ts: a port without its setting throws in a Lambda).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { localFunctions } from '#infra/template.ts';
import { withFunctionEnv } from '#shared/config.ts';

export class FunctionEnvironments {
  readonly #byEntry = new Map<string, ReadonlySet<string>>();
  /** Every variable the template gives to at least one function. */
  readonly #wired = new Set<string>();

  constructor(template: Template) {
    for (const fn of Object.values(localFunctions(template))) {
      this.#byEntry.set(fn.entry, new Set(fn.environment));
      for (const name of fn.environment) this.#wired.add(name);
    }
  }

  /** The variables the template gives the function of `entry`. */
  variablesOf(entry: string): ReadonlySet<string> {
    const own = this.#byEntry.get(entry);
    if (!own) throw new Error(`the template has no function with the entry ${entry}`);
    return own;
  }

  /** The environment the function of `entry` (named `functionName`) sees, from the process's as it is now. */
  of(entry: string, functionName: string): NodeJS.ProcessEnv {
    const own = this.variablesOf(entry);
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!this.#wired.has(name) || own.has(name)) env[name] = value;
    }
    env.AWS_LAMBDA_FUNCTION_NAME = functionName;
    return env;
  }

  /** Runs `work` (and all it sets off) as the function of `entry` (named `functionName`). */
  run<T>(entry: string, functionName: string, work: () => T): T {
    return withFunctionEnv(this.of(entry, functionName), work);
  }
}
