/**
 * Values a rendered manifest cannot carry: a Secret's keys come from stack
 * settings (Pulumi secrets), which `cloudloom plan --out` never writes. Each
 * Secret names, per key, the setting its value comes from, so the rendered
 * template says what to fill in before `kubectl apply`.
 */

/** Annotation of a Secret: JSON of `{ <key>: <the stack setting its value comes from> }`. */
export const FILL_IN = "cloudloom.dev/fill-in";

/** The annotations naming where each key's value comes from. */
export function fillInAnnotation(sources: Record<string, string>): Record<string, string> {
  return { [FILL_IN]: JSON.stringify(sources) };
}

/** The marked placeholder a rendered manifest carries instead of a secret value. */
export const fillInPlaceholder = (source: string): string => `<fill in: ${source}>`;
