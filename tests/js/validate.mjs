// Validators the Python tests call with JSON on stdin, answering JSON on stdout.
//   node validate.mjs answers   {schema, instances}  -> [{valid, errors}]  (Ajv 8, draft 2020-12, strict)
//   node validate.mjs backstage {template}           -> {valid, error, pages: [{valid, errors}]}
// "backstage" runs the scaffolder's own Template validator (@backstage/plugin-scaffolder-common,
// the v1beta3 JSON Schema on top of the catalog's entity envelope), then compiles each form
// page as Backstage does: ui:* keys split off into the uiSchema, the rest through Ajv strict.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv2020 from "ajv/dist/2020.js";
import Ajv from "ajv";
import { splitUiSchema } from "./ui-schema.mjs";

const require = createRequire(import.meta.url);
const input = JSON.parse(readFileSync(0, "utf8"));
const mode = process.argv[2];
const messages = (errors) =>
  (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);

if (mode === "answers") {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validate = ajv.compile(input.schema);
  const results = input.instances.map((instance) => ({
    valid: validate(instance),
    errors: messages(validate.errors),
  }));
  process.stdout.write(JSON.stringify(results));
} else if (mode === "backstage") {
  const { templateEntityV1beta3Validator } = require("@backstage/plugin-scaffolder-common");
  const result = { valid: false, error: null, pages: [] };
  try {
    result.valid = await templateEntityV1beta3Validator.check(input.template);
  } catch (error) {
    result.error = String(error?.message ?? error);
  }
  const ajv = new Ajv({ strict: true, allErrors: true });
  for (const page of input.template.spec.parameters) {
    const { schema } = splitUiSchema(page);
    try {
      ajv.compile(schema);
      result.pages.push({ valid: true, errors: [] });
    } catch (error) {
      result.pages.push({ valid: false, errors: [String(error.message)] });
    }
  }
  process.stdout.write(JSON.stringify(result));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
