/**
 * Whether image data may become the image, given its declared formats and what the inspector found
 * (docs/image-formats.md#the-decision). Pure. Follows Glance 2025.1's upload/import check
 * (`glance/location.py`, `ImageProxy.set_data`) with the options of its `[image_format]` group:
 *
 * 1. Only `container_format=bare` is inspected; anything else is accepted as is (virtual_size null).
 * 2. Data carrying more than one format's signature is refused as ambiguous, except ISO + GPT (a
 *    bootable ISO with a partition table in front), which is an ISO.
 * 3. The detected format must be the declared one. Exceptions: declared `raw` (accepted with a
 *    warning; virtual_size is then the byte size, as Glance), and data recognised as nothing (raw)
 *    under a declared format nobody can inspect (ami, ari, aki, ploop...; virtual_size null).
 * 4. The detected format's safety checks must all pass, including the VMDK create-type allow-list;
 *    for GPT the checks listed in `gptSafetyChecksNonfatal` only warn.
 *
 * With `requireImageFormatMatch` off, steps 2 and 3 only warn; unlike Glance, the safety checks of
 * whatever was detected still apply.
 */
import { type FormatMatch, INSPECTED_FORMATS, type InspectedFormat, type Inspection } from './inspector.ts';
import { excerpt, type SafetyFailure } from './probe.ts';

/** Glance's `[image_format]` options that shape the decision. */
export interface ImageFormatPolicy {
  /** `require_image_format_match`: refuse data whose format is not the declared one. */
  readonly requireImageFormatMatch: boolean;
  /** `vmdk_allowed_types`: VMDK create types accepted (case-insensitive); empty refuses every VMDK. */
  readonly vmdkAllowedTypes: readonly string[];
  /** `gpt_safety_checks_nonfatal`: GPT checks (by name, e.g. `mbr`) that only warn. */
  readonly gptSafetyChecksNonfatal: readonly string[];
}

/** The GPT checks `gptSafetyChecksNonfatal` may name. */
export const GPT_NONFATAL_CHECKS = ['mbr'] as const;

export const DEFAULT_IMAGE_FORMAT_POLICY: ImageFormatPolicy = {
  requireImageFormatMatch: true,
  vmdkAllowedTypes: ['streamOptimized', 'monolithicSparse'],
  gptSafetyChecksNonfatal: [],
};

export interface DeclaredFormats {
  readonly disk_format: string | null;
  readonly container_format: string | null;
}

export type DataVerdict =
  | {
      readonly accept: true;
      /** null when not inspected, not known, or 0 (Glance records no virtual size then). */
      readonly virtual_size: number | null;
      /** What the data is; null when it was not inspected (container not `bare`). */
      readonly detected: InspectedFormat | null;
      /** Things worth a log line: accepted mismatches, non-fatal GPT checks. */
      readonly warnings: readonly string[];
    }
  | {
      readonly accept: false;
      /** A sentence for the user (image `os_glance_failure_reason`, task message, 415 body). */
      readonly reason: string;
      readonly detected: InspectedFormat | null;
    };

const INSPECTABLE: readonly string[] = INSPECTED_FORMATS;

export const decideImageData = (
  image: DeclaredFormats,
  inspection: Inspection,
  policy: ImageFormatPolicy = DEFAULT_IMAGE_FORMAT_POLICY,
): DataVerdict => {
  if (image.container_format !== 'bare') {
    return { accept: true, virtual_size: null, detected: null, warnings: [] };
  }
  const declared = image.disk_format;
  const warnings: string[] = [];
  const found = inspection.matches;
  const formats = found.map((match) => match.format);

  const isoWithGpt = formats.length === 2 && formats.includes('iso') && formats.includes('gpt');
  if (found.length > 1 && !isoWithGpt) {
    const reason = `Image data matches more than one disk format (${formats.join(', ')}), so its real format is ambiguous.`;
    if (policy.requireImageFormatMatch) return { accept: false, reason, detected: null };
    warnings.push(reason);
    const unsafe = found.find((match) => fatalFailures(match, policy).length > 0);
    if (unsafe) return refuseUnsafe(unsafe, fatalFailures(unsafe, policy));
    return { accept: true, virtual_size: null, detected: null, warnings };
  }

  const match = isoWithGpt ? found.find((m) => m.format === 'iso') : found[0];
  const detected: InspectedFormat = match?.format ?? 'raw';
  let virtualSize: number | null = null;
  if (detected === declared) {
    virtualSize = match ? match.virtualSize : inspection.size;
  } else if (detected === 'raw' && (declared === null || !INSPECTABLE.includes(declared))) {
    // Nothing recognised, and the declared format cannot be inspected (ami, ari, aki, ploop...).
  } else if (declared === 'raw') {
    warnings.push(`Image data declared raw is ${detected}; accepted as raw.`);
    virtualSize = inspection.size;
  } else {
    const reason = `Image disk_format '${declared ?? 'null'}' does not match the data, which ${
      detected === 'raw' ? 'carries no known disk format header (raw)' : `is ${detected}`
    }.`;
    if (policy.requireImageFormatMatch) return { accept: false, reason, detected };
    warnings.push(reason);
  }

  if (match) {
    const failures = fatalFailures(match, policy);
    if (failures.length > 0) return refuseUnsafe(match, failures);
    const tolerated = match.failures.filter((failure) => !failures.includes(failure));
    for (const failure of tolerated)
      warnings.push(`Image data (${match.format}): ${failure.reason} (non-fatal).`);
  }
  return { accept: true, virtual_size: virtualSize || null, detected, warnings };
};

/** The failures of `match` that refuse the data under `policy`, the create-type allow-list included. */
const fatalFailures = (match: FormatMatch, policy: ImageFormatPolicy): SafetyFailure[] => {
  const failures = [...match.failures];
  if (match.format === 'vmdk' && match.createType !== undefined) {
    const allowed = policy.vmdkAllowedTypes.map((type) => type.toLowerCase());
    if (!allowed.includes(match.createType.toLowerCase())) {
      failures.push({
        check: 'create_type',
        reason: `its create type ${excerpt(match.createType)} is not allowed (allowed: ${policy.vmdkAllowedTypes.join(', ') || 'none'})`,
      });
    }
  }
  if (match.format === 'gpt') {
    const nonfatal = new Set(policy.gptSafetyChecksNonfatal);
    if (failures.every((failure) => nonfatal.has(failure.check))) return [];
  }
  return failures;
};

const refuseUnsafe = (match: FormatMatch, failures: readonly SafetyFailure[]): DataVerdict => ({
  accept: false,
  reason: `Image data is ${match.format} and fails its safety checks: ${failures.map((f) => f.reason).join('; ')}.`,
  detected: match.format,
});
