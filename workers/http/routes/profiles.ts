import { createRoute, z } from "@hono/zod-openapi";
import { AppError, type FieldError } from "../../../src/errors";
import { getProfile } from "../../../src/profiles/repo";
import {
  MAX_BATCH,
  type ProfileInput,
  profileIdSchema,
  profileInputSchema,
  profilePatchSchema,
  profileSchema,
} from "../../../src/profiles/schemas";
import { deleteProfile, saveProfiles, updateProfile } from "../../../src/profiles/service";
import { createRouter, fieldErrors } from "../context";
import { requireScope } from "../middleware/auth";

const profile = z.object(profileSchema.shape).openapi("Profile");
const idParam = z.object({ id: profileIdSchema });

const batchBody = z
  .object({ profiles: z.array(z.unknown()).min(1).max(MAX_BATCH, `must hold at most ${MAX_BATCH} profiles`) })
  .openapi("ProfileBatch");

const batchResult = z
  .object({
    upserted: z.number().int(),
    ids: z.array(z.string()),
    rejected: z.array(z.object({ index: z.number().int(), errors: z.array(z.unknown()) })),
  })
  .openapi("ProfileBatchResult");

const upsert = createRoute({
  method: "post",
  path: "/",
  summary: "Create or replace profiles",
  description: `One profile, or \`{"profiles": [...]}\` with up to ${MAX_BATCH}; upsert by id. In a batch, valid rows are stored and invalid ones are listed by index with the field and rule that failed.`,
  tags: ["profiles"],
  security: [{ bearer: [] }],
  middleware: [requireScope("ingest")] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: z.union([batchBody, profileInputSchema]) },
      },
    },
  },
  responses: {
    200: {
      description: "Stored: the profile, or a batch summary",
      content: { "application/json": { schema: z.union([batchResult, profile]) } },
    },
    400: { description: "Nothing valid to store" },
  },
});

const getOne = createRoute({
  method: "get",
  path: "/{id}",
  summary: "One profile",
  tags: ["profiles"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: { params: idParam },
  responses: {
    200: { description: "The profile", content: { "application/json": { schema: profile } } },
    404: { description: "No such profile (or it was deleted)" },
  },
});

const patchOne = createRoute({
  method: "patch",
  path: "/{id}",
  summary: "Change some fields of a profile",
  tags: ["profiles"],
  security: [{ bearer: [] }],
  middleware: [requireScope("ingest")] as const,
  request: {
    params: idParam,
    body: {
      required: true,
      content: { "application/json": { schema: profilePatchSchema } },
    },
  },
  responses: {
    200: { description: "The updated profile", content: { "application/json": { schema: profile } } },
    404: { description: "No such profile" },
  },
});

const deleteOne = createRoute({
  method: "delete",
  path: "/{id}",
  summary: "Delete a profile",
  description:
    "Leaves a tombstone in Postgres (so the sync removes it everywhere) and takes it out of the Redis index.",
  tags: ["profiles"],
  security: [{ bearer: [] }],
  middleware: [requireScope("ingest")] as const,
  request: { params: idParam },
  responses: { 204: { description: "Deleted" }, 404: { description: "No such profile" } },
});

/** Validates each row of a batch on its own, so one bad row does not sink the others. */
function splitRows(rows: unknown[]): {
  valid: ProfileInput[];
  rejected: { index: number; errors: FieldError[] }[];
} {
  const valid: ProfileInput[] = [];
  const rejected: { index: number; errors: FieldError[] }[] = [];
  const seen = new Map<string, number>();
  rows.forEach((row, index) => {
    const parsed = profileInputSchema.safeParse(row);
    if (!parsed.success) {
      rejected.push({ index, errors: fieldErrors(parsed.error.issues, `body.profiles.${index}`) });
      return;
    }
    // One statement cannot upsert the same id twice: the last row for an id wins.
    const earlier = seen.get(parsed.data.id);
    if (earlier !== undefined) valid.splice(earlier, 1, parsed.data);
    else {
      seen.set(parsed.data.id, valid.length);
      valid.push(parsed.data);
    }
  });
  return { valid, rejected };
}

/** `/v1/profiles`: create, read, change and delete profiles. */
export const profiles = createRouter()
  .openapi(upsert, async (c) => {
    const body = c.req.valid("json");
    const deps = { db: c.var.db(), redis: c.var.redis(), log: c.var.log };
    if (!("profiles" in body)) {
      const [stored] = await saveProfiles(deps, [body]);
      if (!stored) throw new AppError("internal", "the profile was not stored");
      return c.json(stored, 200);
    }
    const { valid, rejected } = splitRows(body.profiles);
    if (valid.length === 0) {
      const errors = rejected.flatMap((r) => r.errors);
      throw new AppError(
        "validation_failed",
        `no valid profile in the batch (${rejected.length} rejected)`,
        errors,
      );
    }
    const stored = await saveProfiles(deps, valid);
    return c.json({ upserted: stored.length, ids: stored.map((p) => p.id), rejected }, 200);
  })
  .openapi(getOne, async (c) => {
    const { id } = c.req.valid("param");
    const found = await getProfile(c.var.db(), id);
    if (!found) throw new AppError("not_found", `profile '${id}' does not exist`);
    return c.json(found, 200);
  })
  .openapi(patchOne, async (c) => {
    const { id } = c.req.valid("param");
    const deps = { db: c.var.db(), redis: c.var.redis(), log: c.var.log };
    const updated = await updateProfile(deps, id, c.req.valid("json"));
    if (!updated) throw new AppError("not_found", `profile '${id}' does not exist`);
    return c.json(updated, 200);
  })
  .openapi(deleteOne, async (c) => {
    const { id } = c.req.valid("param");
    const removed = await deleteProfile({ db: c.var.db(), redis: c.var.redis(), log: c.var.log }, id);
    if (!removed) throw new AppError("not_found", `profile '${id}' does not exist`);
    return c.body(null, 204);
  });
