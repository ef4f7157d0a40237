import { Stack } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface MailSenderProps {
  /** The address Elevate sends from (may be a parameter token); it must be a verified SES identity. */
  readonly senderAddress: string;
}

/**
 * Elevate's outgoing mail: the SES identity of the sender address and the grant to send from it.
 *
 * The grant is `ses:SendEmail` on the address identity,
 * `arn:<partition>:ses:<region>:<account>:identity/<SenderAddress>`. SES authorizes a send against the
 * identity that verified the From address, so the address itself must be a verified identity: when only
 * its domain is verified, SES checks `identity/<domain>` instead and this grant does not cover it (verify the
 * address too, or widen the grant here).
 */
export class MailSender extends Construct {
  /** The sender address. */
  public readonly senderAddress: string;

  /** The ARN of the sender address's SES identity. */
  public readonly identityArn: string;

  constructor(scope: Construct, id: string, props: MailSenderProps) {
    super(scope, id);
    this.senderAddress = props.senderAddress;
    this.identityArn = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: props.senderAddress,
    });
  }

  /**
   * Lets the grantee send mail from the sender address (ses:SendEmail on its identity only) and read the account's
   * send quota (ses:GetAccount, which takes no resource: the mailer paces itself by the quota's MaxSendRate).
   */
  public grantSendEmail(grantee: IGrantable): Grant {
    const send = Grant.addToPrincipal({ grantee, actions: ['ses:SendEmail'], resourceArns: [this.identityArn] });
    return send.combine(Grant.addToPrincipal({ grantee, actions: ['ses:GetAccount'], resourceArns: ['*'] }));
  }
}
