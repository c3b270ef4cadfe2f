// login, logout, whoami, init.
import { writeFileSync } from "node:fs";
import { createClient } from "../../sdk/index.js";
import { forgetCredentials, saveCredentials, type Settings } from "../config.js";
import { promptHidden, ssoLogin } from "../sso.js";
import { client, print, program, settings, UsageError } from "../context.js";

program
  .command("login")
  .description("store credentials for this machine")
  .option("--email <email>", "log in with email and password (prompted without echo)")
  .option("--sso", "log in through your identity provider in the browser")
  .option("--no-browser", "with --sso: only print the address to open")
  .action(async (opts: { email?: string; sso?: boolean; browser: boolean }) => {
    const flags = program.opts<Settings>();
    const url = flags.url ?? settings().url;
    if (!url) throw new UsageError("give --url for the first login");
    let token = flags.token;
    let refresh: string | undefined;
    if (opts.sso) {
      ({ access_token: token, refresh_token: refresh } = await ssoLogin(url, {
        browser: opts.browser,
      }));
    } else if (opts.email) {
      const password = await promptHidden("Password: ");
      ({ access_token: token, refresh_token: refresh } = await createClient({ url }).auth.login(
        opts.email,
        password,
      ));
    }
    if (!token) throw new UsageError("give --token, --email or --sso");
    const me = await createClient({ url, token }).me();
    saveCredentials({ url, token, refresh_token: refresh });
    print(`Logged in to ${url} as ${String(me.principal.name)}`, { url, principal: me.principal });
  });

program
  .command("logout")
  .description("forget stored credentials")
  .action(() => {
    forgetCredentials();
    print("Logged out", { ok: true });
  });

program.command("whoami").action(async () => {
  const me = await client().me();
  print(
    `${String(me.principal.kind)} ${String(me.principal.name)} (${String(me.principal.id)})`,
    me,
  );
});

program
  .command("init")
  .description("write .qala.json here from --project and --env (no secrets)")
  .action(() => {
    // --project and --env are the global options (flags beat everything else).
    const { project, env = "development" } = program.opts<Settings>();
    if (!project) throw new UsageError("give --project (and --env, default development)");
    writeFileSync(".qala.json", JSON.stringify({ project, env }, null, 2) + "\n");
    print(`Wrote .qala.json (${project}/${env})`, { project, env });
  });
