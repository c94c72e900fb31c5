import { z } from 'zod';

/**
 * Text other people see (names, titles, chat) must not be able to disguise itself: C0 and C1
 * control characters, line and paragraph separators, bidirectional embeddings, overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069, the "Trojan Source" characters that make
 * `exe.txt` read as `txt.exe`) and interlinear annotations are refused. The marks LRM, RLM
 * and ALM stay allowed: right-to-left scripts need them and they reorder nothing by themselves.
 */
const UNSAFE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\ufff9-\ufffb]/u;
/** The same, but line breaks and tabs are part of a chat message. */
const UNSAFE_MULTILINE = /(?![\n\t])[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\ufff9-\ufffb]/u;

const MESSAGE = 'must not contain control characters or bidirectional overrides';

/** A single-line display string: a name or a title. */
export const displayText = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((value) => !UNSAFE.test(value), MESSAGE);

/** Multi-line text such as a chat message. */
export const messageText = () =>
  z
    .string()
    .min(1)
    .refine((value) => !UNSAFE_MULTILINE.test(value), MESSAGE);
