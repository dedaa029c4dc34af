import { BadRequestException, Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ALL_TENANTS, type Principal } from '@rag/common';
import { ApiKeyGuard, CurrentPrincipal, RequireScopes } from '../auth/api-key.guard';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { fromZod, SEARCH_RESPONSE } from '../openapi/schemas';
import { searchRequestSchema } from './search.dto';
import { SearchService } from './search.service';

@ApiTags('search')
@ApiBearerAuth()
@ApiErrors(401, 403, 429)
@Controller('v1/search')
@UseGuards(ApiKeyGuard)
@RequireScopes('search', 'admin')
export class SearchController {
  constructor(private readonly searchService: SearchService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'kNN (or hybrid kNN + BM25) search over the chunks of searchable documents' })
  @ApiBody({ schema: fromZod(searchRequestSchema) })
  @ApiOkResponse({ schema: SEARCH_RESPONSE })
  @ApiErrors(400, 502)
  async search(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const parsed = searchRequestSchema.safeParse(body);
    if (!parsed.success) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      });
    }
    return this.searchService.search(parsed.data, principal.tenant === ALL_TENANTS ? undefined : principal.tenant);
  }
}
