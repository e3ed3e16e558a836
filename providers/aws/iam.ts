/** Least-privilege IAM documents: every statement names its actions and its resources. */

/** ARN prefix of AWS-managed policies. */
export const MANAGED_POLICY = "arn:aws:iam::aws:policy";

/** One permission: these actions on these resources. */
export interface Grant {
  actions: string[];
  resources: string[];
}

/** A policy document of grants; grants with no resources are left out. */
export function policyDocument(grants: Grant[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: grants.filter((g) => g.resources.length > 0).map((g) => ({ Effect: "Allow", Action: g.actions, Resource: g.resources })),
  });
}

/** A trust policy letting `service` assume the role. */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** Read access to exactly these S3 objects. */
export function readObjectsPolicy(objectArns: string[]): string {
  return policyDocument([{ actions: ["s3:GetObject"], resources: objectArns }]);
}

/** The model endpoints a function calls, by how they are authorized. */
export interface ModelAccess<T> {
  /** SageMaker endpoints (CPU models). */
  sagemakerEndpointArns: T[];
  /** API Gateway routes in front of model servers on EKS (GPU models). */
  executeApiArns: T[];
}

/** What a function's role may do: write its own logs, and call the model endpoints it declared. */
export function functionPolicy(logGroupArn: string, models: ModelAccess<string>): string {
  return policyDocument([
    { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logGroupArn}:*`] },
    { actions: ["sagemaker:InvokeEndpoint"], resources: models.sagemakerEndpointArns },
    { actions: ["execute-api:Invoke"], resources: models.executeApiArns },
  ]);
}
