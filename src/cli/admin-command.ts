/**
 * How the admin runs Islet's commands where this server runs, for hints
 * such as the first start's "create the owner with …": ISLET_ADMIN_COMMAND,
 * set by the shipped deployments (`islet-admin` under systemd, `islet` on
 * NixOS, `docker compose exec islet islet` with compose), else `npx islet`,
 * which works in a clone after `npm install`.
 */
export function adminCommand(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const command = env.ISLET_ADMIN_COMMAND?.trim();
  return command ? command : "npx islet";
}
