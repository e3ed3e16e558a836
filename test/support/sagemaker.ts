/** SageMaker's InvokeEndpoint answers, as the fake endpoints of the tests give them. */

/**
 * The body of SageMaker's 424 ModelError for a model container that answered
 * `status` with `text`: the container's status and body inside, as
 * InvokeEndpoint carries them.
 */
export function modelErrorEnvelope(status: number, text: string): Record<string, unknown> {
  return {
    ErrorCode: status < 500 ? "CLIENT_ERROR_FROM_MODEL" : "SERVER_ERROR_FROM_MODEL",
    OriginalStatusCode: status,
    OriginalMessage: text,
    Message: `Received ${status < 500 ? "client" : "server"} error (${status}) from primary with message "${text}".`,
    LogStreamArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/Endpoints/endpoint",
  };
}
