/**
 * An app region's network on an ENS node: an ENS network and a vSwitch in it,
 * and two security groups. The gateway's group admits only the gateway's port,
 * from anywhere (its clients); the runtime group admits only the runtime
 * containers' ports, from inside the network (the gateway and functions
 * calling models). Nothing else comes in.
 */
import * as pulumi from "@pulumi/pulumi";
import { Network, SecurityGroup, Vswitch } from "@pulumi/alicloud/ens";

/** Inputs of one region's ENS network. */
export interface EnsNetworkArgs {
  app: string;
  /** The spec region it serves. */
  region: string;
  /** The ENS node, e.g. cn-dalian-unicom. */
  ensRegionId: string;
  cidrBlock: string;
  vswitchCidrBlock: string;
  /** The port clients reach the gateway on. */
  gatewayPort: number;
  /** The host ports the runtime containers publish (inclusive). */
  runtimePorts: { from: number; to: number };
}

/** An inbound TCP rule (ENS security groups take their rules as `permissions`). */
function ingress(from: number, to: number, sourceCidrIp: string, description: string) {
  return { direction: "ingress", ipProtocol: "TCP", portRange: `${from}/${to}`, sourceCidrIp, policy: "Accept", priority: 1, description };
}

/** A region's ENS network, vSwitch and security groups, typed `cloudloom:alicloud:EnsNetwork`. */
export class EnsNetwork extends pulumi.ComponentResource {
  readonly networkId: pulumi.Output<string>;
  readonly vswitchId: pulumi.Output<string>;
  readonly gatewaySecurityGroupId: pulumi.Output<string>;
  readonly runtimeSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: EnsNetworkArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:alicloud:EnsNetwork", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const network = new Network(
      name,
      { networkName: name, ensRegionId: args.ensRegionId, cidrBlock: args.cidrBlock, description: `cloudloom ${args.app} ${args.region}` },
      child,
    );
    const vswitch = new Vswitch(
      name,
      { vswitchName: name, ensRegionId: args.ensRegionId, networkId: network.id, cidrBlock: args.vswitchCidrBlock },
      child,
    );
    const gateway = new SecurityGroup(
      `${name}-gateway`,
      {
        securityGroupName: `${name}-gateway`,
        description: "cloudloom gateway port from its clients",
        permissions: [ingress(args.gatewayPort, args.gatewayPort, "0.0.0.0/0", "cloudloom gateway")],
      },
      child,
    );
    const runtime = new SecurityGroup(
      `${name}-runtime`,
      {
        securityGroupName: `${name}-runtime`,
        description: "cloudloom runtime containers from inside the network",
        permissions: [ingress(args.runtimePorts.from, args.runtimePorts.to, args.cidrBlock, "cloudloom runtime containers")],
      },
      child,
    );
    this.networkId = network.id;
    this.vswitchId = vswitch.id;
    this.gatewaySecurityGroupId = gateway.id;
    this.runtimeSecurityGroupId = runtime.id;
    this.registerOutputs({ networkId: this.networkId, vswitchId: this.vswitchId });
  }
}
