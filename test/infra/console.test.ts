import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthTemplate } from '#infra/synth.ts';
import { REWRITE_CODE } from '../../console/hosting.ts';

let template: Template;

beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 120_000);

describe('the console in AWS', () => {
  it('publishes the build and a config.json naming this API, the issuer and the console client at every deploy', () => {
    // Assess
    template.hasResourceProperties('Custom::ElevateConsole', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsoleProviderframeworkonEvent'), 'Arn'] },
      Bucket: { Ref: Match.stringLikeRegexp('^ConsoleBucket') },
      SourceBucket: Match.anyValue(),
      SourceKey: Match.stringLikeRegexp('^[0-9a-f]{64}\\.(json|zip)$'),
      Config: {
        apiUrl: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiHttpApi'), 'ApiEndpoint'] },
        issuer: { Ref: 'OidcIssuer' },
        clientId: { Ref: 'ConsoleClientId' },
        scope: Match.anyValue(),
        authorizationEndpoint: { Ref: 'ConsoleAuthorizationEndpoint' },
        tokenEndpoint: { Ref: 'ConsoleTokenEndpoint' },
      },
      DeployNonce: Match.stringLikeRegexp('^\\d+$'),
    });
    template.hasParameter('ConsoleClientId', { Type: 'String', Default: 'elevate-console' });
    template.hasOutput('ConsoleUrl', {});
  });

  it('serves it over HTTPS only, through Origin Access Control, with the deep-link function and the security headers', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: Match.anyValue() }],
          ResponseHeadersPolicyId: { Ref: Match.stringLikeRegexp('^ConsoleHeaders') },
        }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: Match.anyValue() })],
        Logging: Match.objectLike({ Prefix: 'console-cdn/' }),
      }),
    });
    template.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionCode: REWRITE_CODE,
      FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
    });
    const policies = template.findResources('AWS::CloudFront::ResponseHeadersPolicy');
    const [policy] = Object.values(policies) as {
      Properties: { ResponseHeadersPolicyConfig: { SecurityHeadersConfig: Record<string, Record<string, unknown>> } };
    }[];
    const security = policy?.Properties.ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig: Record<string, Record<string, unknown>>;
    };
    expect(security.SecurityHeadersConfig.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(security.SecurityHeadersConfig.ContentTypeOptions).toEqual({ Override: true });
    expect(security.SecurityHeadersConfig.StrictTransportSecurity).toMatchObject({ IncludeSubdomains: true });
    const csp = JSON.stringify(security.SecurityHeadersConfig.ContentSecurityPolicy);
    expect(csp).toContain("default-src 'none'; script-src 'self'");
    expect(csp).toContain("connect-src 'self' https://*.execute-api.");
    expect(csp).toContain('OidcIssuer');
    expect(csp).not.toContain('unsafe');
  });
});
