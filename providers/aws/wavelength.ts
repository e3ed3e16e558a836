/**
 * A VPC's extension into a Wavelength Zone: a subnet in the zone, a carrier
 * gateway, and a route table of the subnet's own whose default route goes to
 * the carrier gateway (AWS VPC guide "Subnets in AWS Wavelength": instances
 * there reach the carrier network and the internet only through it, on
 * carrier IPs). Instances in two Wavelength Zones of one VPC cannot reach each
 * other, so each zone region gets its own subnet and gateway.
 */
import * as pulumi from "@pulumi/pulumi";
import { CarrierGateway, Route, RouteTable, RouteTableAssociation, Subnet } from "@pulumi/aws/ec2";
import { entryLabels } from "../shared/labels";

/** Inputs of one Wavelength Zone's network. */
export interface WavelengthNetworkArgs {
  app: string;
  /** The spec region the zone serves. */
  region: string;
  vpcId: pulumi.Input<string>;
  /** The zone id, e.g. eu-central-1-wl1-ber-wlz-1. */
  zone: string;
  /** The subnet's IPv4 range inside the VPC's. */
  cidrBlock: string;
}

/** A Wavelength Zone's subnet and carrier gateway, typed `cloudloom:aws:WavelengthNetwork`. */
export class WavelengthNetwork extends pulumi.ComponentResource {
  readonly subnetId: pulumi.Output<string>;

  constructor(name: string, args: WavelengthNetworkArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:aws:WavelengthNetwork", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "region", args.region);
    const subnet = new Subnet(
      name,
      { vpcId: args.vpcId, cidrBlock: args.cidrBlock, availabilityZone: args.zone, tags: { ...tags, Name: name } },
      child,
    );
    const carrier = new CarrierGateway(name, { vpcId: args.vpcId, tags: { ...tags, Name: name } }, child);
    const table = new RouteTable(name, { vpcId: args.vpcId, tags: { ...tags, Name: name } }, child);
    new Route(`${name}-default`, { routeTableId: table.id, destinationCidrBlock: "0.0.0.0/0", carrierGatewayId: carrier.id }, child);
    new RouteTableAssociation(name, { subnetId: subnet.id, routeTableId: table.id }, child);
    this.subnetId = subnet.id;
    this.registerOutputs({ subnetId: this.subnetId });
  }
}
