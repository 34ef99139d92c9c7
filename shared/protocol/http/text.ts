import { z } from 'zod';

/**
 * C0/C1 controls and DEL, and the bidi marks, embeddings, overrides and isolates
 * (U+200E/F, U+202A–E, U+2066–9, U+061C): they let a name render as something else
 * in dashboards and logs ("Trojan Source" style spoofing) or break log lines.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/u;

/** A human-readable name: trimmed, 1..max characters, no control or bidi-override characters. */
export const safeText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !UNSAFE.test(s), 'no control characters or bidirectional overrides allowed');
