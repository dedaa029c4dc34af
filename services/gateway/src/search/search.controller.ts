import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { fromZod, SEARCH_RESPONSE } from '../openapi/schemas';
import { searchRequestSchema } from './search.dto';
import { SearchService } from './search.service';

@ApiTags('search')
@Controller('v1/search')
export class SearchController {
  constructor(private readonly searchService: SearchService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'kNN (or hybrid kNN + BM25) search over the chunks of searchable documents' })
  @ApiBody({ schema: fromZod(searchRequestSchema) })
  @ApiOkResponse({ schema: SEARCH_RESPONSE })
  @ApiErrors(400, 502)
  async search(@Body() body: unknown) {
    const parsed = searchRequestSchema.safeParse(body);
    if (!parsed.success) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      });
    }
    return this.searchService.search(parsed.data);
  }
}
