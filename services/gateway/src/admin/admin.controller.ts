import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  OnModuleDestroy,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ALL_TENANTS, type Principal } from '@rag/common';
import { ApiKeyGuard, CurrentPrincipal, RequireScopes } from '../auth/api-key.guard';
import { CONSUMER_STAGES, type ConsumerStage } from '@rag/contracts';
import type { DeadLetters } from '@rag/dead-letters';
import { stageRates, type PipelineInsight, type PipelineSnapshot } from '@rag/pipeline-insight';
import { z } from 'zod';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { DEAD_LETTERS, PIPELINE_INSIGHT } from './admin.providers';

const stageSchema = z.enum(CONSUMER_STAGES as [ConsumerStage, ...ConsumerStage[]]);
const replaySchema = z
  .object({ document: z.string().min(1).optional(), all: z.boolean().optional(), dryRun: z.boolean().optional() })
  .strict();

/** Dead letters of the caller's tenant only; operator keys (tenant "*") see every tenant's. */
function tenantScope(principal: Principal): string | undefined {
  return principal.tenant === ALL_TENANTS ? undefined : principal.tenant;
}

function stageOf(value: string): ConsumerStage {
  const parsed = stageSchema.safeParse(value);
  if (!parsed.success)
    throw new BadRequestException({ error: 'invalid_request', message: `unknown stage "${value}"; one of ${CONSUMER_STAGES.join(', ')}` });
  return parsed.data;
}

/**
 * Operator endpoints the console uses: dead letters (the same library as `rag-stream dlq`) and
 * the pipeline's live state read from Kafka (the same as `rag-stream top`).
 */
@ApiTags('admin')
@ApiBearerAuth()
@ApiErrors(401, 403, 429)
@Controller('v1/admin')
@UseGuards(ApiKeyGuard)
@RequireScopes('admin')
export class AdminController implements OnModuleDestroy {
  private previous?: PipelineSnapshot;

  constructor(
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetters,
    @Inject(PIPELINE_INSIGHT) private readonly insight: PipelineInsight,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.insight.close();
  }

  @Get('dead-letters')
  @ApiOperation({ summary: "Every stage's dead letters: counts by reason" })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'object' } } })
  @ApiErrors()
  summaries(@CurrentPrincipal() principal: Principal) {
    return Promise.all(CONSUMER_STAGES.map((stage) => this.deadLetters.summary(stage, { tenant: tenantScope(principal) })));
  }

  @Get('dead-letters/:stage/records')
  @ApiOperation({ summary: "A stage's dead letters, decoded, with their failure headers" })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'object' } } })
  @ApiErrors(400)
  records(
    @CurrentPrincipal() principal: Principal,
    @Param('stage') stage: string,
    @Query('limit') limit?: string,
    @Query('document') document?: string,
  ) {
    return this.deadLetters.inspect(stageOf(stage), {
      document,
      tenant: tenantScope(principal),
      limit: Math.min(Number(limit ?? 50) || 50, 500),
    });
  }

  @Post('dead-letters/:stage/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Produce dead letters back to the topic they failed on (attempts reset)' })
  @ApiOkResponse({ schema: { type: 'object' } })
  @ApiErrors(400)
  replay(@CurrentPrincipal() principal: Principal, @Param('stage') stage: string, @Body() body: unknown) {
    const parsed = replaySchema.safeParse(body ?? {});
    if (!parsed.success)
      throw new BadRequestException({ error: 'invalid_request', message: parsed.error.issues.map((i) => i.message).join('; ') });
    return this.deadLetters.replay(stageOf(stage), { ...parsed.data, tenant: tenantScope(principal) });
  }

  @Delete('dead-letters/:stage')
  @ApiOperation({ summary: "Delete every record of a stage's DLQ; `?confirm=<stage>` is required" })
  @ApiOkResponse({ schema: { type: 'object' } })
  @ApiErrors(400)
  purge(@CurrentPrincipal() principal: Principal, @Param('stage') stage: string, @Query('confirm') confirm?: string) {
    // Kafka deletes whole partition prefixes: a purge takes every tenant's records, so only operators may.
    if (principal.tenant !== ALL_TENANTS)
      throw new ForbiddenException({ error: 'forbidden', message: 'purging a dead-letter topic needs an operator key (tenant "*")' });
    const checked = stageOf(stage);
    if (confirm !== checked)
      throw new BadRequestException({ error: 'confirmation_required', message: `pass ?confirm=${checked} to purge` });
    return this.deadLetters.purge(checked);
  }

  @Get('pipeline')
  @ApiOperation({ summary: 'Per stage: instances, group state, lag, records/s, retries/s, dead letters/s (from Kafka)' })
  @ApiOkResponse({ schema: { type: 'object' } })
  @ApiErrors()
  async pipeline() {
    const current = await this.insight.snapshot();
    const rates = this.previous ? stageRates(this.previous, current) : [];
    this.previous = current;
    return { ...current, rates };
  }
}
