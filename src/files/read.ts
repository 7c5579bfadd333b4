// Reading a user's text file with every file-system failure and non-UTF-8 content turned into one clear line.

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { describeFsError, InputFileError } from "../errors.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decode bytes that must be UTF-8 (TOML requires it; so does couplet for a Dockerfile's context files). */
export function decodeUtf8(bytes: Uint8Array, file: string, what = "the file"): string {
  try {
    return decoder.decode(bytes);
  } catch {
    // The first line that fails on its own is where the bad byte is (line breaks are plain ASCII in UTF-8).
    let line = 1;
    let from = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue;
      try {
        decoder.decode(bytes.subarray(from, i));
      } catch {
        break;
      }
      line++;
      from = i + 1;
    }
    throw new InputFileError(`${what} is not UTF-8`, {
      location: { file, line },
      hint: "save it as UTF-8 (for example: iconv -f latin1 -t utf-8)",
    });
  }
}

function readError(file: string, error: unknown): InputFileError {
  return new InputFileError(`cannot read: ${describeFsError(error)}`, {
    location: { file },
    hint: "check the path and its permissions",
  });
}

export async function readTextFile(file: string, what?: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw readError(file, error);
  }
  return decodeUtf8(bytes, file, what);
}

export function readTextFileSync(file: string, what?: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw readError(file, error);
  }
  return decodeUtf8(bytes, file, what);
}
