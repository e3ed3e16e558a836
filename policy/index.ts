/**
 * The cloudloom policy pack: `pulumi preview --policy-pack policy`.
 * Constructing a PolicyPack starts its gRPC server, so nothing else imports
 * this file; tests and the CLI use `policies.ts` through `runner.ts`.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("cloudloom", { policies: POLICIES });
