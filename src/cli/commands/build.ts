// PLACEHOLDER: `couplet build` is not registered yet; its owner replaces this file.
import type { Command } from "commander";

export function register(_program: Command): void {}
