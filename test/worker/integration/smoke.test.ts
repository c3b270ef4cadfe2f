import { describe, expect, it } from "vitest";
import { api, json, newProject, secretsPath } from "../helpers.js";

describe("smoke", () => {
  it("stores and fetches a secret", async () => {
    const project = await newProject();
    const put = await api("PUT", `${secretsPath(project)}/API_KEY`, { body: { value: "s3cret" } });
    expect(put.status).toBe(201);
    const get = await api("GET", `${secretsPath(project)}/API_KEY`);
    expect(get.status).toBe(200);
    expect(await json(get)).toMatchObject({ key: "API_KEY", value: "s3cret", version: 1 });
  });
});
