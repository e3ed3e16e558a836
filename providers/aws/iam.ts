/** Least-privilege IAM documents: every statement names its actions and its resources. */

/** A trust policy letting `service` assume the role. */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** What a function's role may do: write its own logs, and call the model endpoints it declared. */
export function functionPolicy(logGroupArn: string, modelEndpointArns: string[]): string {
  const statements: object[] = [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logGroupArn}:*`] }];
  if (modelEndpointArns.length > 0) statements.push({ Effect: "Allow", Action: ["sagemaker:InvokeEndpoint"], Resource: modelEndpointArns });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
