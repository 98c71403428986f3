import { z } from 'zod';

const evalCaseSchema = z.strictObject({
  id: z.string().min(1),
  input: z.string().min(1),
  tools: z.array(z.string().min(1)).optional(),
  /** Tool names the run must have asked for, in any order (a denied or rejected call still counts). */
  expectedToolCalls: z.array(z.string().min(1)),
  expectedOutcome: z.strictObject({
    status: z.enum(['completed', 'failed']),
    outputIncludes: z.array(z.string()).optional(),
    errorReason: z.string().optional(),
  }),
  budget: z.strictObject({ tokens: z.int().positive() }),
  /** Who decides the calls awaiting approval: an approver approves them, or rejects them. */
  approve: z.enum(['approver', 'reject']).optional(),
});

/** One line of `evals/dataset.jsonl`. */
export type EvalCase = z.infer<typeof evalCaseSchema>;

/** Parses a JSONL dataset; blank lines and `//` comments are skipped, a bad line names its number. */
export function parseDataset(text: string): EvalCase[] {
  const cases: EvalCase[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('//')) return;
    const parsed = evalCaseSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`dataset line ${index + 1}: ${parsed.error.message}`);
    cases.push(parsed.data);
  });
  const ids = cases.map((c) => c.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new Error(`dataset: duplicate case id ${duplicate}`);
  return cases;
}
