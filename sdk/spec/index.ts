/**
 * Spec v1: the plain, versioned document between the SDK and every target.
 * It imports nothing else of cloudloom's.
 */
export * from "./accelerators";
export * from "./edge-sites";
export * from "./async";
export * from "./canonical";
export * from "./problems";
export * from "./schema";
export * from "./targets";
export * from "./canaries";
export * from "./objectives";
export * from "./units";
export { isCron, isTimezone } from "./rules/scaling";
export { validate, type ValidateOptions, type ValidationResult } from "./validate";
export * from "./endpoints";
export * from "./hold";
export { closest, didYouMean, editDistance } from "./suggest";
export { ONNX_ELEMENT_TYPES, OnnxFormatError, readOnnxGraph, type OnnxDim, type OnnxGraph, type OnnxTensor } from "./onnx";
