/**
 * Agent feature codes dialled on a phone (`*11` login, `*12` logout, `*21` ready, `*22` not
 * ready; `[agents]` in the dialplan sends them to `Stasis(hotline,feature,<name>)`). The state
 * change is made first, then the phone hears what happened and is hung up. Who dialled comes
 * from the channel's PJSIP endpoint (`PJSIP/agent1001-…`), which Asterisk authenticated, never
 * from the caller id the phone sends.
 */
import type { Logger } from 'pino';
import type { AriNode, Channel, NodeEvent } from '../../adapters/ari/index.js';
import { isAriNotFound } from '../../adapters/ari/index.js';
import { promptMediaUri } from '../../domain/ivr/prompts.js';
import { agentExtensionOfChannel, type AgentFeature } from '../../domain/telephony/asterisk-contract.js';
import type { Timers } from '../../domain/timers.js';
import type { PhoneFeatureResult } from '../agents/agent-states.service.js';
import { CallGoneError, ChannelMedia } from './calls.media.js';

export interface PhoneFeaturePort {
  phoneFeature(extension: string, feature: AgentFeature): Promise<PhoneFeatureResult>;
}

/** The prompt that tells the agent the outcome. */
export function featurePrompt(feature: AgentFeature, result: PhoneFeatureResult): string {
  if (!result.ok) return result.code === 'unknown_extension' || result.code === 'not_an_agent_phone' ? 'agent-phone-unknown' : 'agent-feature-refused';
  if (feature === 'login') return 'agent-logged-in';
  if (feature === 'logout') return 'agent-logged-out';
  return feature === 'ready' ? 'agent-ready' : 'agent-not-ready';
}

/** One feature-code call: lives from its StasisStart until the phone is hung up. */
export class FeatureCodeCall {
  private readonly media: ChannelMedia;

  constructor(
    private readonly node: AriNode,
    private readonly channel: Channel,
    private readonly feature: AgentFeature,
    private readonly agents: PhoneFeaturePort,
    timers: Timers,
    private readonly log: Logger,
  ) {
    this.media = new ChannelMedia(() => node, channel.id, timers, log);
  }

  /** Events of this channel (its playback finishing, its hang-up). */
  handle(e: NodeEvent): void {
    if (e.type === 'PlaybackFinished') this.media.onPlaybackFinished(e.playback.id);
    else if (e.type === 'StasisEnd' || e.type === 'ChannelDestroyed' || e.type === 'ChannelHangupRequest') this.media.hangup();
  }

  async run(): Promise<PhoneFeatureResult> {
    const extension = agentExtensionOfChannel(this.channel.name);
    let result: PhoneFeatureResult;
    try {
      result = extension ? await this.agents.phoneFeature(extension, this.feature) : { ok: false, code: 'not_an_agent_phone' };
    } catch (err) {
      // The database is unreachable: the agent still hears that it did not work.
      this.log.error({ err }, 'feature code could not be applied');
      result = { ok: false, code: 'unavailable' };
    }
    this.log.info({ feature: this.feature, extension, ok: result.ok, code: result.code, agentId: result.agentId }, 'agent feature code');
    try {
      await this.node.channels.answer(this.channel.id);
      await this.media.play([promptMediaUri(featurePrompt(this.feature, result))]);
    } catch (err) {
      if (!(err instanceof CallGoneError) && !isAriNotFound(err)) this.log.warn({ err }, 'could not play the feature code outcome');
    }
    if (!this.media.isGone) {
      await this.node.channels.hangup(this.channel.id).catch((err: unknown) => {
        if (!isAriNotFound(err)) this.log.warn({ err }, 'feature code hangup failed');
      });
    }
    return result;
  }
}
