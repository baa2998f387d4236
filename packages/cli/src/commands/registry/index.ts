/** The `registry`, `auth` and `bundle` commands: browsing registries, logging in to them, and carrying imports offline. */
import { Command, Option } from 'commander';

type SetCode = (code: number) => void;

const kindOption = () => new Option('--kind <kind>', 'only this kind').choices(['policy', 'framework', 'provider']);
const formatOption = () => new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
const registryOption = '--registry <name>';
const registryHelp = 'the registry (default github.com/faramesh/faramesh-registry; FARAMESH_REGISTRY_ROOT or _URL override it)';

interface BrowseFlags {
  registry?: string;
  kind?: 'policy' | 'framework' | 'provider';
  format: 'text' | 'json';
}

export function registryCommand(setCode: SetCode, noColor: () => boolean): Command {
  const cmd = new Command('registry').description("browse a registry's catalog: providers, policy packs and framework profiles");
  cmd
    .command('list')
    .description('every entry of the catalog')
    .option(registryOption, registryHelp)
    .addOption(kindOption())
    .addOption(formatOption())
    .action(async (o: BrowseFlags) => {
      const { registryList } = await import('./browse.js');
      setCode(await registryList(undefined, { ...o, noColor: noColor() }));
    });
  cmd
    .command('search <term>')
    .description('entries whose name or description holds the term')
    .option(registryOption, registryHelp)
    .addOption(kindOption())
    .addOption(formatOption())
    .action(async (term: string, o: BrowseFlags) => {
      const { registryList } = await import('./browse.js');
      setCode(await registryList(term, { ...o, noColor: noColor() }));
    });
  cmd
    .command('info <artifact>')
    .description(
      "one entry (<kind>/[<ns>/]<name>[@<version>]): its versions, digest, signer, and whether the stack's pinned key verifies it",
    )
    .option(registryOption, registryHelp)
    .option('--dir <dir>', 'the stack whose trust { } keys to check against', '.')
    .addOption(formatOption())
    .action(async (what: string, o: BrowseFlags & { dir: string }) => {
      const { registryInfo } = await import('./browse.js');
      setCode(await registryInfo(what, { ...o, noColor: noColor() }));
    });
  return cmd;
}

export function authCommand(setCode: SetCode, noColor: () => boolean): Command {
  const cmd = new Command('auth').description('tokens for private registries (kept in ~/.faramesh/registry-auth.json)');
  cmd
    .command('login')
    .description('store a token for a registry: read from stdin, or typed at a prompt that does not echo')
    .requiredOption(registryOption, 'the registry: a name (registry.internal, github.com/org/repo) or an http(s) URL')
    .option('--no-verify', 'store the token without asking the registry whether it accepts it')
    .action(async (o: { registry: string; verify: boolean }) => {
      const { authLogin } = await import('./auth.js');
      setCode(await authLogin({ ...o, noColor: noColor() }));
    });
  cmd
    .command('logout')
    .description("forget a registry's token")
    .requiredOption(registryOption, 'the registry, as given to login')
    .action(async (o: { registry: string }) => {
      const { authLogout } = await import('./auth.js');
      setCode(authLogout({ ...o, noColor: noColor() }));
    });
  cmd
    .command('whoami')
    .description('the registries logged in to, and whether each accepts its token now (tokens shown as digests)')
    .addOption(formatOption())
    .action(async (o: { format: 'text' | 'json' }) => {
      const { authWhoami } = await import('./auth.js');
      setCode(await authWhoami({ ...o, noColor: noColor() }));
    });
  return cmd;
}

export function bundleCommand(setCode: SetCode, noColor: () => boolean): Command {
  return new Command('bundle')
    .description('pack every import of the stack, with its signature, into a tar for hosts without registry access')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--out <file>', 'the bundle to write', 'faramesh-bundle.tar')
    .action(async (o: { dir: string; out: string }) => {
      const { bundleCmd } = await import('../bundle/index.js');
      setCode(await bundleCmd({ ...o, noColor: noColor() }));
    });
}
