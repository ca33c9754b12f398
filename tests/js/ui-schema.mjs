// Backstage's split of a form page into the JSON Schema and rjsf's uiSchema: every
// "ui:*" key, at any depth of properties, items and dependencies, moves to the
// uiSchema under the same path (as @backstage/plugin-scaffolder-react's
// extractSchemaFromStep does). "title"/"description" of a page stay in the schema.
function split(schema, ui) {
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("ui:")) {
      ui[key] = value;
    } else if (key === "properties") {
      out.properties = {};
      for (const [name, property] of Object.entries(value)) {
        ui[name] = ui[name] ?? {};
        out.properties[name] = split(property, ui[name]);
      }
    } else if (key === "items") {
      ui.items = ui.items ?? {};
      out.items = split(value, ui.items);
    } else if (key === "dependencies" || key === "allOf" || key === "oneOf" || key === "anyOf") {
      out[key] = Array.isArray(value)
        ? value.map((branch) => split(branch, ui))
        : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, split(v, ui)]));
    } else if (key === "then" || key === "if" || key === "else") {
      out[key] = split(value, ui);
    } else {
      out[key] = value;
    }
  }
  return out;
}

export function splitUiSchema(page) {
  const ui = {};
  const { title, ...rest } = page;
  const schema = split(rest, ui);
  return { schema: { title, ...schema }, uiSchema: ui };
}
