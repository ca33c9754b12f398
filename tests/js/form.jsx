// One page of portal/backstage-template.yaml as Backstage's scaffolder shows it: the
// page split into JSON Schema and uiSchema, rendered by rjsf with its Ajv 8 validator.
// Backstage's own pickers (OwnerPicker, RepoUrlPicker) need a Backstage app, so their
// fields fall back to rjsf's text inputs. tests/test_form.py loads this in headless
// Chromium; the page then plays a user: it reports which fields show, picks the
// `select` choice in window.CHOICE, and reports again (#report, and the screenshot).
import React from "react";
import { createRoot } from "react-dom/client";
import { flushSync } from "react-dom";
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import { splitUiSchema } from "./ui-schema.mjs";

const { TEMPLATE, PAGE, CHOICE } = window;
const page = TEMPLATE.spec.parameters[PAGE];
const { schema, uiSchema } = splitUiSchema(page);
for (const field of Object.values(uiSchema)) {
  if (field && typeof field === "object") delete field["ui:field"];
}

const report = { page: page.title, steps: [] };
const shown = () =>
  [...document.querySelectorAll("[id^=root_]")]
    .map((element) => element.id.replace(/^root_/, ""))
    .filter((id) => !id.includes("_") || id === id.split("__")[0])
    .filter((id, index, all) => all.indexOf(id) === index);

function write() {
  document.getElementById("report").textContent = JSON.stringify(report);
}

const root = createRoot(document.getElementById("form"));
flushSync(() => {
  root.render(
    <Form schema={schema} uiSchema={uiSchema} validator={validator} liveValidate={false} />,
  );
});
report.steps.push({ after: "load", fields: shown() });

// Each choice in turn, as a user picks them, then a report of what shows.
const choose = ([choice, ...rest]) => {
  if (!choice) {
    write();
    return;
  }
  const select = document.getElementById(`root_${choice.field}`);
  const option = [...select.options].find((o) => o.textContent === choice.label);
  const setter = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, "value").set;
  setter.call(select, option.value);
  select.dispatchEvent(new Event("change", { bubbles: true }));
  setTimeout(() => {
    report.steps.push({ after: `${choice.field}=${choice.label}`, fields: shown() });
    choose(rest);
  }, 200);
};
choose(CHOICE ?? []);
