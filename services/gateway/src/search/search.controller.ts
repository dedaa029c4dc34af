import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { searchRequestSchema } from './search.dto';
import { SearchService } from './search.service';

@Controller('v1/search')
export class SearchController {
  constructor(private readonly searchService: SearchService) {}

  @Post()
  @HttpCode(200)
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
