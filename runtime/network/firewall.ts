import { ignoreMissing, inNetns, setSysctl, type HostNetns } from './netns.ts';

/**
 * The engine's packet filter in its host netns, regenerated whole from state on every change (so it can
 * never drift from what the state says) and removed entirely when nothing is left. The nft backend is used
 * explicitly so that adding, deleting and saving rules never split across iptables backends.
 */
const IPTABLES = 'iptables-nft';
const RESTORE = 'iptables-nft-restore';
const SAVE = 'iptables-nft-save';

export interface FirewallBridge {
  name: string;
  subnet: string;
  /** CIDRs containers on this bridge may reach outside it; empty means no egress at all. */
  egressAllow: readonly string[];
}

export interface FirewallPort {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  destIp: string;
  destPort: number;
}

export interface FirewallModel {
  bridges: FirewallBridge[];
  ports: FirewallPort[];
}

/**
 * Destinations never reachable by egress, whatever the allow-list says: the host's own and private ranges,
 * link-local (cloud metadata), CGNAT, multicast and reserved space, where other engines and the host's
 * services live.
 */
export const EGRESS_DENY = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
];

interface Chains {
  input: string;
  forward: string;
  dnat: string;
  post: string;
}

interface Jump {
  table: 'filter' | 'nat';
  chain: string;
  spec: string[];
}

export class Firewall {
  private readonly chains: Chains;
  /**
   * Whether the jumps to our chains are in place, as this object's last successful change left them;
   * undefined until then and after a failure, when they are checked one by one.
   */
  private jumpsThere?: boolean;
  /** The model last applied whole (iptables-restore input). */
  private applied?: string;

  /** `tag` makes the chain names this engine's own, so engines sharing a netns never touch each other's. */
  constructor(
    private readonly ns: HostNetns,
    tag: string,
  ) {
    this.chains = { input: `LL-${tag}-IN`, forward: `LL-${tag}-FWD`, dnat: `LL-${tag}-DNAT`, post: `LL-${tag}-POST` };
  }

  /**
   * Make the kernel's rules match the model: whole, in one iptables-restore transaction when the jumps'
   * state is known. A transaction costs tens of milliseconds of kernel work, so the same model again changes
   * nothing: containers started one after another on one network do not each pay for a rewrite, nor for a
   * check (repair() is the engine's periodic check that nobody changed them meanwhile).
   */
  async apply(model: FirewallModel): Promise<void> {
    if (model.bridges.length === 0 && model.ports.length === 0) {
      await this.remove();
      return;
    }
    const text = this.render(model, []);
    if (this.jumpsThere && this.applied === text) return;
    this.applied = undefined;
    if (model.bridges.some((b) => b.egressAllow.length > 0)) await setSysctl(this.ns, 'net.ipv4.ip_forward', '1');
    const known = this.jumpsThere;
    this.jumpsThere = undefined;
    if (known === undefined || !(await this.restoreWithJumps(model, known))) {
      // --noflush keeps everyone else's rules; declaring our chains flushes just them, in one transaction.
      await inNetns(this.ns, RESTORE, ['--noflush'], text);
      for (const jump of this.jumps()) await this.ensureJump(jump);
    }
    this.jumpsThere = true;
    this.applied = text;
  }

  /**
   * Apply the model (the one last applied) again if the kernel's rules no longer match it: someone flushed
   * the host's rules, a firewall manager reloaded. One iptables-save when they are intact.
   */
  async repair(model: FirewallModel): Promise<void> {
    if (!this.applied || !this.jumpsThere || (await this.intact(this.applied))) return;
    this.applied = undefined;
    await this.apply(model);
  }

  /**
   * True when the kernel still holds our jumps and, in each of our chains, as many rules as `text` has:
   * what a flush or a deletion by someone else would change.
   */
  private async intact(text: string): Promise<boolean> {
    const saved = await inNetns(this.ns, SAVE, []).catch(() => '');
    const lines = new Set(saved.split('\n'));
    const rules = (dump: string, chain: string) => dump.split('\n').filter((l) => l.startsWith(`-A ${chain} `)).length;
    const c = this.chains;
    return (
      this.jumps().every((j) => lines.has(`-A ${j.chain} ${j.spec.join(' ')}`)) &&
      [c.input, c.forward, c.dnat, c.post].every((chain) => rules(saved, chain) === rules(text, chain))
    );
  }

  /**
   * Our chains and the jumps to them, (re)inserted at the top, in one transaction. Deleting a jump that is
   * not there (someone flushed the host's rules) fails it whole, changing nothing: false, and the caller
   * takes the slow path.
   */
  private restoreWithJumps(model: FirewallModel, jumpsThere: boolean): Promise<boolean> {
    const lines = this.jumps().flatMap((j) => [
      ...(jumpsThere ? [{ table: j.table, line: `-D ${j.chain} ${j.spec.join(' ')}` }] : []),
      { table: j.table, line: `-I ${j.chain} 1 ${j.spec.join(' ')}` },
    ]);
    return inNetns(this.ns, RESTORE, ['--noflush'], this.render(model, lines)).then(() => true, () => false);
  }

  /** Remove our jumps and chains; safe to call when they do not exist. */
  async remove(): Promise<void> {
    const known = this.jumpsThere;
    this.jumpsThere = undefined;
    this.applied = undefined;
    // Removed by this object already: our chains went with the jumps, and nothing else makes them.
    // Known to be in place: one transaction; if the kernel disagrees, it changes nothing and the slow path runs.
    if (known !== false && !(known === true && (await this.removeKnown()))) await this.removeChecked();
    this.jumpsThere = false;
  }

  private async removeKnown(): Promise<boolean> {
    const lines = (table: 'filter' | 'nat', chains: string[]) => [
      ...this.jumps().filter((j) => j.table === table).map((j) => `-D ${j.chain} ${j.spec.join(' ')}`),
      ...chains.map((c) => `-F ${c}`),
      ...chains.map((c) => `-X ${c}`),
    ];
    const c = this.chains;
    const text = ['*filter', ...lines('filter', [c.input, c.forward]), 'COMMIT', '*nat', ...lines('nat', [c.dnat, c.post]), 'COMMIT', ''].join('\n');
    return inNetns(this.ns, RESTORE, ['--noflush'], text).then(() => true, () => false);
  }

  private async removeChecked(): Promise<void> {
    for (const jump of this.jumps()) {
      // Bounded: a crash between check and insert could at worst have left a few duplicates.
      for (let i = 0; i < 8 && (await this.hasJump(jump)); i++) {
        await inNetns(this.ns, IPTABLES, ['-w', '5', '-t', jump.table, '-D', jump.chain, ...jump.spec]);
      }
    }
    const owned: Array<['filter' | 'nat', string]> = [
      ['filter', this.chains.input], ['filter', this.chains.forward], ['nat', this.chains.dnat], ['nat', this.chains.post],
    ];
    for (const [table, chain] of owned) {
      await ignoreMissing(inNetns(this.ns, IPTABLES, ['-w', '5', '-t', table, '-F', chain]));
      await ignoreMissing(inNetns(this.ns, IPTABLES, ['-w', '5', '-t', table, '-X', chain]));
    }
  }

  private jumps(): Jump[] {
    const c = this.chains;
    return [
      { table: 'filter', chain: 'INPUT', spec: ['-j', c.input] },
      { table: 'filter', chain: 'FORWARD', spec: ['-j', c.forward] },
      // Only locally generated traffic to a local address is published: the host netns's own processes
      // (`curl localhost:8080`) reach containers; nothing arriving from outside it does.
      { table: 'nat', chain: 'OUTPUT', spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat] },
      { table: 'nat', chain: 'POSTROUTING', spec: ['-j', c.post] },
    ];
  }

  private async hasJump(jump: Jump): Promise<boolean> {
    try {
      await inNetns(this.ns, IPTABLES, ['-w', '5', '-t', jump.table, '-C', jump.chain, ...jump.spec]);
      return true;
    } catch {
      return false;
    }
  }

  private async ensureJump(jump: Jump): Promise<void> {
    if (!(await this.hasJump(jump))) {
      await inNetns(this.ns, IPTABLES, ['-w', '5', '-t', jump.table, '-I', jump.chain, '1', ...jump.spec]);
    }
  }

  /** Our chains as iptables-restore input, plus `extra` lines (jump inserts) in their tables. */
  private render(model: FirewallModel, extra: Array<{ table: 'filter' | 'nat'; line: string }>): string {
    const c = this.chains;
    const filter = [`:${c.input} - [0:0]`, `:${c.forward} - [0:0]`];
    const nat = [`:${c.dnat} - [0:0]`, `:${c.post} - [0:0]`];
    for (const b of model.bridges) {
      // Containers never reach the host netns itself (gateway, loopback via route_localnet, any local
      // address); only replies to connections the host opened (published ports) come back.
      filter.push(`-A ${c.input} -i ${b.name} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
      filter.push(`-A ${c.input} -i ${b.name} -j DROP`);
      filter.push(...this.forwardRules(b));
      // Host-originated connections (DNAT'ed from 127.0.0.1) leave with the gateway as source, so the
      // container's replies come back over the bridge instead of to its own loopback.
      nat.push(`-A ${c.post} -o ${b.name} -m addrtype --src-type LOCAL -j MASQUERADE`);
      if (b.egressAllow.length > 0) nat.push(`-A ${c.post} -s ${b.subnet} ! -o ${b.name} -j MASQUERADE`);
    }
    for (const p of model.ports) {
      const dst = p.hostIp ? ` -d ${p.hostIp}/32` : '';
      nat.push(`-A ${c.dnat}${dst} -p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.destIp}:${p.destPort}`);
    }
    for (const e of extra) (e.table === 'filter' ? filter : nat).push(e.line);
    return ['*filter', ...filter, 'COMMIT', '*nat', ...nat, 'COMMIT', ''].join('\n');
  }

  private forwardRules(b: FirewallBridge): string[] {
    const c = this.chains.forward;
    const rules = [`-A ${c} -i ${b.name} -o ${b.name} -j ACCEPT`];
    if (b.egressAllow.length > 0) {
      rules.push(`-A ${c} -o ${b.name} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
      // Never into another engine network (same host netns or not), never to the host's private ranges.
      rules.push(`-A ${c} -i ${b.name} -o llbr+ -j DROP`);
      for (const cidr of EGRESS_DENY) rules.push(`-A ${c} -i ${b.name} -d ${cidr} -j DROP`);
      for (const cidr of b.egressAllow) rules.push(`-A ${c} -i ${b.name} -d ${cidr} -j ACCEPT`);
    }
    rules.push(`-A ${c} -i ${b.name} -j DROP`, `-A ${c} -o ${b.name} -j DROP`);
    return rules;
  }
}
